-- CreateIndex (edited by hand: one statement, so no transaction block)
CREATE INDEX CONCURRENTLY "Dentist_pager_idx" ON "Dentist"("pager");

-- AlterTable
ALTER TABLE "Dentist" ADD COLUMN "specialty" TEXT;

-- CreateIndex (two statements in one script: PostgreSQL runs them in one transaction block)
CREATE INDEX CONCURRENTLY "Dentist_specialty_idx" ON "Dentist"("specialty");

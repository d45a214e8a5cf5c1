-- AlterTable
ALTER TABLE "Dentist" ADD COLUMN "pager" TEXT;

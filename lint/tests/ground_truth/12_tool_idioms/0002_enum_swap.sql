-- A label removed: a new type, the column moved onto it, the old type dropped.
BEGIN;
CREATE TYPE "Role_new" AS ENUM ('USER', 'OWNER');
ALTER TABLE "User" ALTER COLUMN "role" DROP DEFAULT;
ALTER TABLE "User" ALTER COLUMN "role" TYPE "Role_new" USING ("role"::text::"Role_new");
ALTER TYPE "Role" RENAME TO "Role_old";
ALTER TYPE "Role_new" RENAME TO "Role";
DROP TYPE "Role_old";
ALTER TABLE "User" ALTER COLUMN "role" SET DEFAULT 'USER';
COMMIT;
ALTER TABLE "User" ALTER COLUMN "profile" SET DATA TYPE JSONB USING "profile"::jsonb;

DROP TABLE chairs;
DROP TABLE clinics;

"""The plan's indicators per village, township and county, and verification samples."""

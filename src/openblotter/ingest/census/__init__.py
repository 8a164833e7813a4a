"""Census tables (ACS/decennial downloads) read into community demographics."""

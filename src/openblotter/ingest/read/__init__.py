"""Reading an upload into a raw table: encodings, CSV and XLSX readers, guards, shapes."""

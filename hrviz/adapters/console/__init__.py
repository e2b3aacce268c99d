"""What ``hrviz ingest`` prints for a person: the rich summary table and the progress bar."""

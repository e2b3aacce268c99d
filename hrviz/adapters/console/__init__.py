"""What the commands print for a person: ``report`` (ingest's summary table and progress bar),
``insights`` (``hrviz report``) and ``trends`` (``hrviz sessions trends``)."""

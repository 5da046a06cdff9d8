"""Knowledge base: document loading, chunking and ingestion."""

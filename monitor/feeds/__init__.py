"""Getting feeds in: fetch (I/O with caps and deadlines), parse (bytes -> Items), article text."""

"""Outside witnesses and signatures: RFC 3161 timestamps, the clock check, the second witness, PAdES signing."""

"""Pure rules: what a case is and may do, the law's deadlines, input validation, hashes. No I/O, no Flask."""

"""De-duplication: one blocking + scoring engine for imports, the duplicate finder and benchmarks."""

"""Demo data: placeholder replaced below."""
def load_demo(customers: int = 300, seed: int = 2026, force: bool = False) -> bool:
    raise NotImplementedError

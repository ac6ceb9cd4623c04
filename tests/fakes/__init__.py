"""What the tests share: clocks, worlds, builders, fakes and fault wrappers; no test lives here."""

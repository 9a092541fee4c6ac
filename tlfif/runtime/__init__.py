"""Process plumbing every deployable shares, apart from the domain: JSON log lines, the
Lambda log setup, EMF metrics, and the event loop a Lambda keeps between invocations."""

"""What users read: the locale files (Swedish first), the Adaptive Card templates and their
binding, and plain views of a proposal. Pure and synchronous; no botbuilder, no I/O beyond
reading its own packaged files."""

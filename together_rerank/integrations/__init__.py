"""Integrations with other frameworks, one module each; import the one you use.

Each needs its framework installed (an extra of this package) and is never
imported by `import together_rerank`.
"""

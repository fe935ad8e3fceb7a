"""The socfund benchmark: a synthetic corpus at the real sources' size, and timed stages.

`python -m bench.generate` writes the corpus into a warehouse folder's raw store;
`python -m bench.run` times each stage as a whole process. See bench/README.md.
"""

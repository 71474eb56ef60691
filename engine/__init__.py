"""AlphaPanda trading engine: events, bus, stream processors and trading services.

The engine never imports the UI or storage; it talks to them through the ports in
``engine.ports`` so that every service runs headless, in the console or in a cluster.
"""

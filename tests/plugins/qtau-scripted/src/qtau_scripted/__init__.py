"""QTAU test plugin `scripted`: resources with scripted queue, noise, cost and behaviour."""

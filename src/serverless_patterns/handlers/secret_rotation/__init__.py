"""Rotation function of a SecureSecret: replaces a generated value with a fresh one of the same shape."""

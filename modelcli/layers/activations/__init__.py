"""Filled by the layer family implementation."""

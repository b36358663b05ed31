"""cets: a carbon emissions trading platform for China's national market and its pilots."""

__version__ = "0.1.0"

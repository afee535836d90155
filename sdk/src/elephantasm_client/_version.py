"""The package's version, and the version of the Elephantasm API it speaks."""

__version__ = "0.1.0"

# The server says which API it serves in `GET /` ("api_version"); this client speaks this one.
API_VERSION = "v1"

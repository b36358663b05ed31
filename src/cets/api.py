"""The JSON API, ``/api/v1`` (django-ninja), OpenAPI at ``/api/v1/docs``."""

from ninja import NinjaAPI

api = NinjaAPI(title="cets API", version="1", urls_namespace="api-v1")

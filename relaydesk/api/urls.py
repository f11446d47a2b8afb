from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, URLResolver, path, re_path
from django.views.decorators.csrf import csrf_exempt

from relaydesk.api.errors import error_body
from relaydesk.api.main import api


@csrf_exempt  # it changes nothing; a CSRF page would only hide the real answer
def unknown_endpoint(request: HttpRequest, rest: str) -> JsonResponse:
    """A JSON 404 for paths under /api/v1 that no endpoint serves, instead of an HTML page."""
    return JsonResponse(error_body("not_found", "There is no such API endpoint."), status=404)


urlpatterns: list[URLPattern | URLResolver] = [
    path("", api.urls),
    re_path(r"^(?P<rest>.*)$", unknown_endpoint),
]

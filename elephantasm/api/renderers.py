from rest_framework import renderers


class JSONRenderer(renderers.JSONRenderer):
    """DRF's renderer, except that text which cannot be encoded as UTF-8 (an unpaired surrogate
    echoed back in an error message) is written with ASCII escapes instead of failing."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            self.ensure_ascii = True
            return super().render(data, accepted_media_type, renderer_context)

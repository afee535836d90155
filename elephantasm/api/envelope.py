"""The error envelope every API error shares, as the OpenAPI schema shows it.

Bodies are built by the exception handler (`elephantasm.api.exceptions`) from the codes in
`elephantasm.api.errors`; these serializers only document their shape.
"""

from __future__ import annotations

from rest_framework import serializers


class ApiErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable, e.g. validation_error, not_found.")
    message = serializers.CharField()
    details = serializers.DictField(help_text="For validation errors: field name -> messages.")


class ErrorResponseSerializer(serializers.Serializer):
    error = ApiErrorSerializer()

"""Small helpers shared by the blueprints."""
from flask import jsonify


def json_error(message: str, status: int):
    """The contract's error body: ``{"error": "<message in French>"}``."""
    response = jsonify({"error": message})
    response.status_code = status
    return response

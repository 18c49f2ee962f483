# scripts/gen-openapi.py - writes web/openapi.json, the OpenAPI 3.1 document of `eosight serve`
# (embedded at build time, served at GET /openapi.json). Edit this file, run it, commit both;
# tests/service/test_service_api.c checks the document against the route table.
import json
err = {"$ref": "#/components/responses/Error"}
def errs(*codes):
    return {str(c): err for c in codes}
img_body = {"required": True, "description": "The image: any raster format GDAL reads (JPEG, PNG, GeoTIFF, ...) as the raw body, or a multipart/form-data form with the file in the part named 'image' (other form fields are the same options as the query parameters).",
  "content": {"application/octet-stream": {"schema": {"type": "string", "contentEncoding": "binary"}},
              "image/*": {"schema": {"type": "string", "contentEncoding": "binary"}},
              "multipart/form-data": {"schema": {"type": "object", "required": ["image"], "properties": {
                  "image": {"type": "string", "contentEncoding": "binary"},
                  "model": {"type": "string"}, "top_k": {"type": "integer"}, "tta": {"type": "integer"}, "threshold": {"type": "string"},
                  "outputs": {"type": "string"}}}}}}
P = lambda name, desc, schema, where="query", req=False: {"name": name, "in": where, "required": req, "description": desc, "schema": schema}
model_p = P("model", "Model name (GET /v1/models); default: the task's default model.", {"type": "string"})
topk_p = P("top_k", "Classes listed, by probability (0: all). Default 5 for classify, all otherwise.", {"type": "integer", "minimum": 0, "maximum": 250})
tta_p = P("tta", "Test-time augmentation: 1 (none), 4 (rotations), 8 (rotations and flips).", {"type": "integer", "enum": [1, 4, 8], "default": 1})
window_p = P("window", "Segmentation window side in pixels (a multiple of 32); default from the model.", {"type": "integer", "minimum": 0, "maximum": 4096})
overlap_p = P("overlap", "Pixels shared by neighbouring windows (even); default window/4.", {"type": "integer", "minimum": -1})
thr_p = P("threshold", "tag / clouds: decision threshold(s) instead of the model's: T for every class, or T1,T2,... one per class (each 0..1).", {"type": "string"})
outputs_p = P("outputs", "Comma-separated extras of the JSON answer: polygons (default), mask_png.", {"type": "string"})
id_p = P("id", "Scene id", {"type": "integer", "minimum": 1}, "path", True)
analysis_resp = {"description": "The analysis", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ImageResult"}}}}
seg_resp = {"description": "Class areas (JSON, with GeoJSON polygons and optionally the mask as a PNG data URL), or the class mask itself as PNG or GeoTIFF through the Accept header.",
  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SegmentResult"}},
              "image/png": {"schema": {"type": "string", "contentEncoding": "binary"}},
              "image/tiff": {"schema": {"type": "string", "contentEncoding": "binary"}}}}
paths = {}
def op(path, method, summary, **kw):
    o = {"summary": summary, "operationId": kw.pop("opid")}
    o.update(kw)
    paths.setdefault(path, {})[method] = o
op("/healthz", "get", "Liveness: 200 while the server runs.", opid="healthz", tags=["service"],
   responses={"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"const": "ok"}}}}}}})
op("/readyz", "get", "Readiness: 200 when at least one model is loaded.", opid="readyz", tags=["service"],
   responses={"200": {"description": "ready", "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"const": "ready"}, "models": {"type": "integer"}, "catalog": {"type": "boolean"}}}}}}, **errs(503)})
op("/metrics", "get", "Prometheus metrics (text exposition format 0.0.4).", opid="metrics", tags=["service"],
   responses={"200": {"description": "metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}, **errs(401)})
op("/openapi.json", "get", "This document.", opid="openapi", tags=["service"],
   responses={"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}})
op("/v1/models", "get", "The loaded models and their contracts.", opid="listModels", tags=["models"],
   responses={"200": {"description": "models", "content": {"application/json": {"schema": {"type": "object", "properties": {"models": {"type": "array", "items": {"$ref": "#/components/schemas/Contract"}}}}}}}, **errs(401, 429)})
op("/v1/models/{name}", "get", "One model's contract.", opid="getModel", tags=["models"],
   parameters=[P("name", "Model name", {"type": "string"}, "path", True)],
   responses={"200": {"description": "contract", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Contract"}}}}, **errs(401, 404, 429)})
for task, what in [("classify", "Scene classification: the top classes of the image (a grid of cells for a large scene)."),
                   ("tag", "Multi-label tagging: every label above its threshold."),
                   ("clouds", "Cloud screening: the cloudy probability.")]:
    op(f"/v1/{task}", "post", what, opid=task, tags=["analysis"], parameters=[model_p, topk_p, tta_p] + ([thr_p] if task != "classify" else []), requestBody=img_body,
       responses={"200": analysis_resp, **errs(400, 401, 404, 413, 415, 422, 429, 503)})
op("/v1/segment", "post", "Land-cover segmentation of the image, pixel by pixel.", opid="segment", tags=["analysis"],
   parameters=[model_p, tta_p, window_p, overlap_p, outputs_p], requestBody=img_body,
   responses={"200": seg_resp, **errs(400, 401, 404, 413, 415, 422, 429, 503)})
at_body = {"required": True, "content": {"application/json": {"schema": {"type": "object", "required": ["lat", "lon"], "properties": {
    "lat": {"type": "number", "minimum": -90, "maximum": 90}, "lon": {"type": "number", "minimum": -180, "maximum": 180},
    "model": {"type": "string"}}}}}}
for task in ["classify", "tag", "clouds", "segment"]:
    op(f"/v1/{task}-at", "post", f"Run the {task} model on the catalog tile under a point (the newest scene covering it; the tile is the model's analysis window) and record the prediction.",
       opid=f"{task}At", tags=["analysis", "catalog"], parameters=[tta_p, topk_p] + ([thr_p] if task in ("tag", "clouds") else []), requestBody=at_body,
       responses={"200": {"description": "scene, tile and result", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AtResult"}}}},
                  **errs(400, 401, 404, 413, 415, 422, 429, 503)})
op("/v1/scenes", "get", "Catalog scenes, filtered by place and time.", opid="listScenes", tags=["catalog"],
   parameters=[P("bbox", "WEST,SOUTH,EAST,NORTH in degrees (west > east crosses the antimeridian).", {"type": "string"}),
               P("point", "LAT,LON: scenes whose footprint contains the point.", {"type": "string"}),
               P("from", "Acquired at or after (ISO 8601 date or time).", {"type": "string"}),
               P("to", "Acquired at or before (a date means the whole day).", {"type": "string"}),
               P("limit", "At most this many scenes.", {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100}),
               P("offset", "Scenes skipped (paging).", {"type": "integer", "minimum": 0, "default": 0}),
               P("format", "json (default) or geojson (a FeatureCollection of footprints).", {"type": "string", "enum": ["json", "geojson"]})],
   responses={"200": {"description": "scenes", "content": {"application/json": {"schema": {"type": "object", "properties": {"count": {"type": "integer"}, "scenes": {"type": "array", "items": {"$ref": "#/components/schemas/Scene"}}}}},
                                                          "application/geo+json": {"schema": {"type": "object"}}}}, **errs(400, 401, 404, 429)})
op("/v1/scenes/{id}", "get", "One catalog scene.", opid="getScene", tags=["catalog"], parameters=[id_p],
   responses={"200": {"description": "scene", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Scene"}}}}, **errs(400, 401, 404, 429)})
op("/v1/scenes/{id}/predictions", "get", "The predictions recorded for a scene, newest first.", opid="listPredictions", tags=["catalog"],
   parameters=[id_p, P("limit", "At most this many.", {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100}),
               P("offset", "Skipped (paging).", {"type": "integer", "minimum": 0, "default": 0})],
   responses={"200": {"description": "predictions", "content": {"application/json": {"schema": {"type": "object", "properties": {"count": {"type": "integer"}, "predictions": {"type": "array", "items": {"type": "object"}}}}}}}, **errs(400, 401, 404, 429)})
op("/v1/scenes/{id}/segment", "post", "Segment a whole catalog scene; the mask is kept and drawn by the map tiles (layer=segmentation). With async=1 the answer is 202 with a background job (GET /v1/jobs/{id}: progress, then this route's answer).", opid="segmentScene", tags=["catalog", "analysis"],
   parameters=[id_p, model_p, tta_p, window_p, overlap_p, outputs_p,
               P("async", "1: answer 202 at once with a job and segment in the background.", {"type": "integer", "enum": [0, 1], "default": 0})],
   responses={"200": {"description": "class areas", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SegmentResult"}}}},
              "202": {"description": "the background job (async=1)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
              **errs(400, 401, 404, 413, 422, 429, 503)})
op("/v1/jobs/{id}", "get", "A background job: its status (queued, running, done, failed), progress and, once finished, the answer of its route (result, or error).", opid="getJob", tags=["service"],
   parameters=[P("id", "Job id", {"type": "integer", "minimum": 1}, "path", True)],
   responses={"200": {"description": "the job", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}}, **errs(400, 401, 404, 429)})
op("/v1/tiles/{z}/{x}/{y}.png", "get", "A 256x256 XYZ (Web Mercator) map tile drawn from the catalog's rasters; transparent where there is none.", opid="getTile", tags=["catalog"],
   parameters=[P("z", "Zoom 0..24", {"type": "integer", "minimum": 0, "maximum": 24}, "path", True),
               P("x", "Column", {"type": "integer", "minimum": 0}, "path", True),
               P("y", "Row (0 at the north)", {"type": "integer", "minimum": 0}, "path", True),
               P("scene", "Only this scene.", {"type": "integer", "minimum": 1}),
               P("api_key", "The API key, for servers started with --api-key-file (map tiles are fetched as images, which cannot send headers; no other route takes it in the query).", {"type": "string"}),
               P("layer", "image (default) or segmentation (the scene's last POST /v1/scenes/{id}/segment mask; needs scene).", {"type": "string", "enum": ["image", "segmentation"]})],
   responses={"200": {"description": "PNG tile", "content": {"image/png": {"schema": {"type": "string", "contentEncoding": "binary"}}}}, **errs(400, 401, 404, 429, 503)})
doc = {
 "openapi": "3.1.0",
 "info": {"title": "eosight", "version": "1", "summary": "Deep learning on satellite and aerial imagery: scene classification, tagging, cloud screening, land-cover segmentation and a scene catalog.",
          "description": "Errors are JSON {\"error\": {\"code\", \"message\"}}. With --api-key-file, every /v1 route and /metrics need 'Authorization: Bearer KEY' or 'X-API-Key: KEY'. No endpoint fetches URLs on the server's behalf.",
          "license": {"name": "see the repository"}},
 "servers": [{"url": "/"}],
 "security": [{}, {"bearer": []}, {"apiKey": []}],
 "paths": paths,
 "components": {
  "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}, "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
  "responses": {"Error": {"description": "An error: 400 bad parameters, 401 missing or unknown API key, 404 unknown route, model, scene or no scene at the point, 405 wrong method, 413 body or pixels over the limit, 415 undecodable image, 422 image refused by the model contract, 429 over the rate limit (Retry-After), 503 overloaded (Retry-After).",
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
  "schemas": {
   "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
   "Contract": {"type": "object", "properties": {"name": {"type": "string"}, "task": {"type": "string", "enum": ["classify", "tag", "cloud", "segment"]},
       "classes": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}, "color": {"type": "string"}, "threshold": {"type": "number"}}}},
       "bands": {"type": "array", "items": {"type": "string"}}, "input_size": {"type": "array"}, "gsd_m": {"type": "number"}}},
   "ImageResult": {"type": "object", "properties": {"model": {"type": "string"}, "task": {"type": "string"},
       "classes": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}, "prob": {"type": "number"}}}},
       "top": {"type": "string"}, "prob": {"type": "number"}, "labels": {"type": "array"}, "cloudy": {"type": "boolean"}, "cloud_prob": {"type": "number"},
       "ood_score": {"type": ["number", "null"]}, "uncertain": {"type": "boolean"}, "grid": {"type": "object"}, "seconds": {"type": "number"}}},
   "SegmentResult": {"type": "object", "properties": {"model": {"type": "string"}, "width": {"type": "integer"}, "height": {"type": "integer"},
       "classes": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}, "color": {"type": "string"}, "pixels": {"type": "integer"}, "area_m2": {"type": "number"}, "share": {"type": "number"}}}},
       "nodata_px": {"type": "integer"}, "mean_entropy": {"type": "number"}, "polygons": {"type": "object", "description": "GeoJSON FeatureCollection"},
       "mask_png": {"type": "string", "description": "data:image/png;base64,..."}}},
   "Scene": {"type": "object", "properties": {"id": {"type": "integer"}, "path": {"type": "string"}, "crs": {"type": "string"}, "epsg": {"type": ["integer", "null"]},
       "width": {"type": "integer"}, "height": {"type": "integer"}, "bands": {"type": "array"}, "time": {"type": ["string", "null"]}, "hash": {"type": "string"},
       "bbox": {"type": "array", "items": {"type": "number"}}, "footprint": {"type": "object"}}},
   "Job": {"type": "object", "properties": {"id": {"type": "integer"}, "route": {"type": "string"}, "scene_id": {"type": "integer"},
       "status": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
       "progress": {"type": "object", "properties": {"done": {"type": "integer"}, "total": {"type": "integer"}, "fraction": {"type": "number"}}},
       "seconds": {"type": "number"}, "answer_status": {"type": "integer"}, "result": {"type": "object"}, "error": {"type": "object"}}},
   "AtResult": {"type": "object", "properties": {"scene": {"$ref": "#/components/schemas/Scene"},
       "tile": {"type": "object", "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}, "w": {"type": "integer"}, "h": {"type": "integer"}, "bounds": {"type": "array", "items": {"type": "number"}}}},
       "prediction_id": {"type": ["integer", "null"]}, "model": {"type": "string"}, "result": {"type": "object"}}}}}}
import os; open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'web', 'openapi.json'), 'w').write(json.dumps(doc, indent=1) + "\n")

{ buildPythonPackage, click, itsdangerous, jinja2, werkzeug }:

buildPythonPackage {
  pname = "Flask";
  version = "1.0.2";
  propagatedBuildInputs = [ click itsdangerous jinja2 werkzeug ];
  meta.description = "A microframework based on Werkzeug, Jinja 2 and good intentions";
}

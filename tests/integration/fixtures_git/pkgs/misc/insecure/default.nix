{ stdenv }:

# A job that fails to evaluate in every commit, as nixpkgs' check-meta makes some fail.
stdenv.mkDerivation {
  name = "insecure-0.1";
  src = throw "insecure-0.1 is marked as insecure, refusing to evaluate";
  meta.description = "A package that never evaluates";
}

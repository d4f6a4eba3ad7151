# A multi-output library and consumers taking different outputs, for `impact outputs` and the early-cutoff
# what-if. Builders use /bin/sh builtins only (read, echo), so they build offline in a chroot store whose
# sandbox holds nothing but /bin/sh and its libraries. With `ca = true` every derivation is content-addressed
# (experimental feature ca-derivations), so Nix itself shows early cutoff.
{ ca ? false, libText ? "library v1", devText ? "headers v1", manText ? "manual v1" }:
let
  mk = name: attrs: derivation ({
    inherit name;
    system = builtins.currentSystem;
    builder = "/bin/sh";
  } // (if ca then { __contentAddressed = true; outputHashMode = "recursive"; outputHashAlgo = "sha256"; } else { })
    // attrs);
in
rec {
  # Three outputs, each with its own content.
  lib = mk "lib-1.0" {
    outputs = [ "out" "dev" "man" ];
    args = [ "-c" "echo ${libText} > $out; echo ${devText} > $dev; echo ${manText} > $man" ];
  };
  # Takes lib.out only.
  app = mk "app-1.0" { args = [ "-c" "read x < ${lib}; echo app on $x > $out" ]; };
  # Takes lib.dev and lib.out.
  tool = mk "tool-1.0" { args = [ "-c" "read x < ${lib.dev}; read y < ${lib}; echo tool on $x $y > $out" ]; };
  # Takes lib.man only.
  doc = mk "doc-1.0" { args = [ "-c" "read x < ${lib.man}; echo doc of $x > $out" ]; };
  # Reaches lib only through app.
  appUser = mk "app-user-1.0" { args = [ "-c" "read x < ${app}; echo user of $x > $out" ]; };
  # Reaches lib.man through doc and lib.out through app.
  bundle = mk "bundle-1.0" { args = [ "-c" "read x < ${doc}; read y < ${app}; echo $x / $y > $out" ]; };
}

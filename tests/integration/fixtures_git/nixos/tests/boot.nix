import ./make-test.nix ({ pkgs, ... }: {
  name = "boot";

  machine = { ... }: { };

  testScript = ''
    machine.wait_for_unit("multi-user.target")
  '';
})

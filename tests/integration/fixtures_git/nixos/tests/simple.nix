import ./make-test.nix ({ pkgs, ... }: {
  name = "simple";

  machine = { ... }: { };

  testScript = ''
    machine.shutdown()
  '';
})

import ./make-test.nix ({ pkgs, ... }: {
  name = "sudo";

  machine = { pkgs, ... }: {
    security.sudo.enable = true;
  };

  testScript = ''
    machine.succeed("sudo true")
  '';
})

import ./make-test.nix ({ pkgs, ... }: {
  name = "openssh";

  machine = { pkgs, ... }: {
    services.openssh.enable = true;
  };

  testScript = ''
    machine.wait_for_unit("sshd")
  '';
})

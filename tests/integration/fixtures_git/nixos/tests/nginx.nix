import ./make-test.nix ({ pkgs, ... }: {
  name = "nginx";

  machine = { pkgs, ... }: {
    services.nginx.enable = true;
  };

  testScript = ''
    machine.wait_for_unit("nginx")
  '';
})

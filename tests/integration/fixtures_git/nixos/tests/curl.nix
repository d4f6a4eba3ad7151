import ./make-test.nix ({ pkgs, ... }: {
  name = "curl";

  machine = { pkgs, ... }: {
    environment.systemPackages = [ pkgs.curl ];
  };

  testScript = ''
    machine.succeed("curl --version")
  '';
})

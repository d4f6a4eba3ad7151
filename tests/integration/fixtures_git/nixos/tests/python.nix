import ./make-test.nix ({ pkgs, ... }: {
  name = "python";

  machine = { pkgs, ... }: {
    environment.systemPackages = [ pkgs.python3 pkgs.pyPackages.requests ];
  };

  testScript = ''
    machine.succeed("python3 -c \"import requests\"")
  '';
})

namespace ScrapeDo.Lean.Benchmarks.Rig;

/// <summary>Finds the <c>scrapedo</c> CLI of this repository (Release build) for the end-to-end fan-out row.</summary>
internal static class CliLocator
{
    public static string? Find()
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "ScrapeDo.Lean.sln")))
            {
                string cli = Path.Combine(d.FullName, "src", "ScrapeDo.Lean.Cli", "bin", "Release", "net10.0", OperatingSystem.IsWindows() ? "scrapedo.exe" : "scrapedo");
                if (File.Exists(cli))
                {
                    return cli;
                }

                Console.WriteLine($"CLI row skipped: {cli} not found (dotnet build src/ScrapeDo.Lean.Cli -c Release first, or pass --cli PATH)");
                return null;
            }
        }

        return null;
    }
}

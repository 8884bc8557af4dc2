using System.Text.RegularExpressions;

namespace ScrapeDo.Lean.Hosting.Tests;

/// <summary>
/// The README's service and test-fixture code must be the compiled code: each region marked <c>// &lt;name&gt;</c> in a
/// source file must appear verbatim in a csharp block of README.md.
/// </summary>
public sealed partial class ReadmeSnippetTests
{
    [Theory]
    [InlineData("samples/ScrapeDo.Lean.WorkerSample/Program.cs", "in-a-service")]
    [InlineData("tests/ScrapeDo.Lean.Hosting.Tests/EmulatorFixtureExample.cs", "emulator-fixture")]
    [InlineData("samples/ScrapeDo.Lean.LibrarySample/Program.cs", "using-the-library")]
    [InlineData("samples/ScrapeDo.Lean.LibrarySample/Program.cs", "lease-content")]
    [InlineData("samples/ScrapeDo.Lean.LibrarySample/Program.cs", "leased-task")]
    public void Readme_shows_the_compiled_region_verbatim(string file, string region)
    {
        string root = RepositoryRoot();
        string source = File.ReadAllText(Path.Combine(root, file)).ReplaceLineEndings("\n");
        Match match = Regex.Match(source, $@"[ \t]*// <{region}>\n(.*?)[ \t]*// </{region}>", RegexOptions.Singleline);
        Assert.True(match.Success, $"region {region} not found in {file}");
        string code = match.Groups[1].Value.TrimEnd('\n');
        string readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");

        Assert.Contains("```csharp\n" + code + "\n```", readme);
    }

    [Fact]
    public void Readme_names_the_public_telemetry_constants()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));

        Assert.Contains($"AddSource(ScrapeDoTelemetry.{nameof(ScrapeDoTelemetry.ActivitySourceName)})", readme);
        Assert.Contains($"AddMeter(ScrapeDoTelemetry.{nameof(ScrapeDoTelemetry.MeterName)})", readme);
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ScrapeDo.Lean.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("ScrapeDo.Lean.sln not found above the test directory.");
    }
}

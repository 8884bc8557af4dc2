using System.Text;
using System.Text.Json;
using ScrapeDo.Lean.Internal.Http;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean.Tests;

/// <summary>The client's hand-written create body writer must write exactly what the source-generated metadata writes.</summary>
public class CreateJobRequestWriterTests
{
    public static TheoryData<string> Cases => ["minimal", "full", "plugin", "escaped", "defaults"];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Hand_written_create_body_matches_the_source_generated_one(string name)
    {
        CreateJobRequest request = Build(name);
        string expected = JsonSerializer.Serialize(request, ScrapeDoJsonContext.Default.CreateJobRequest);

        using JsonBodyWriter writer = JsonBodyWriter.Rent();
        writer.Write(request);
        Assert.Equal(expected, Encoding.UTF8.GetString(writer.WrittenMemory.Span));
    }

    private static CreateJobRequest Build(string name) => name switch
    {
        "minimal" => new CreateJobRequest { Targets = ["https://a.example/"] },
        "full" => new CreateJobRequest
        {
            Targets = ["https://a.example/", "https://b.example/?q=1&r=<x>"],
            Method = TargetMethod.Post,
            Body = "{\"a\":1}",
            GeoCode = "us",
            RegionalGeoCode = "europe",
            Super = true,
            Headers = new Dictionary<string, string> { ["X-A"] = "1", ["Accept"] = "text/html" },
            ForwardHeaders = false,
            SessionId = "s1",
            Device = DeviceType.Mobile,
            SetCookies = "a=b; c=d",
            Timeout = 30000,
            RetryTimeout = 5000,
            DisableRetry = true,
            TransparentResponse = false,
            DisableRedirection = true,
            Output = OutputFormat.Markdown,
            Render = new RenderOptions
            {
                BlockResources = false,
                WaitUntil = WaitUntilEvent.DomContentLoaded,
                CustomWait = 100,
                WaitSelector = "#main",
                PlayWithBrowser = [BrowserAction.Click("#b"), BrowserAction.ScrollX(-10.5, "#pane"), BrowserAction.Screenshot(fullPage: true)],
                ReturnJson = true,
                ShowWebsocketRequests = true,
                ShowFrames = false,
                Screenshot = true,
                FullScreenshot = false,
                ParticularScreenshot = "#hero",
            },
            WebhookUrl = "https://hooks.example/in",
            WebhookHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer x" },
        },
        "plugin" => new CreateJobRequest
        {
            Plugin = new PluginRequest("amazon/pdp", [PluginParams.FromJson("""{"asin":"B0","zip":"10001"}""")]),
            Super = true,
        },
        "escaped" => new CreateJobRequest { Targets = ["https://a.example/ü\"\\\u0001+"], Body = "<script>'&'</script>", Headers = new Dictionary<string, string> { ["Ä\"k"] = "v\n" } },
        "defaults" => new CreateJobRequest { Targets = ["https://a.example/"], Method = default(TargetMethod), Device = default(DeviceType), Render = new RenderOptions() },
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };
}

using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ScrapeDo.Lean.AspNetCore;

namespace ScrapeDo.Lean.Hosting.Tests;

public sealed class WebhookLoggingTests
{
    [Fact]
    public async Task A_forged_delivery_is_refused_and_logged_as_1201_without_the_secret()
    {
        string secret = ScrapeDoWebhookReceiver.NewSecret();
        var receiver = new ScrapeDoWebhookReceiver(secret);
        var capture = new CapturingLoggerProvider();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders().AddProvider(capture);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        await using WebApplication app = builder.Build();
        app.MapScrapeDoWebhook("/hook", receiver);
        await app.StartAsync(TestTimeout.Token());
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };

        using var forged = new HttpRequestMessage(HttpMethod.Post, address + "/hook") { Content = new StringContent("{}") };
        forged.Headers.Add(ScrapeDoWebhookReceiver.DefaultSecretHeader, "not-" + secret);
        using HttpResponseMessage response = await http.SendAsync(forged, TestTimeout.Token());

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        CapturingLoggerProvider.LogEntry entry = Assert.Single(capture.Entries, e => e.EventId.Id == 1201);
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.Contains("Unauthorized", entry.Message);
        Assert.Contains("/hook", entry.Message);
        Assert.DoesNotContain(capture.Entries, e => e.Message.Contains(secret));
        await app.StopAsync(TestTimeout.Token());
    }
}

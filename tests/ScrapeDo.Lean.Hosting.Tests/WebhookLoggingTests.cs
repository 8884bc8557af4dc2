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

    [Fact]
    public async Task A_delivery_larger_than_the_servers_default_body_limit_is_taken_up_to_the_receivers_limit()
    {
        string secret = ScrapeDoWebhookReceiver.NewSecret();
        var receiver = new ScrapeDoWebhookReceiver(secret, maxBodyBytes: 40L * 1024 * 1024);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // A small server limit stands in for Kestrel's 30 MB default, so the test sends 2 MB rather than 31.
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.Limits.MaxRequestBodySize = 1024 * 1024;
        });
        await using WebApplication app = builder.Build();
        app.MapScrapeDoWebhook("/hook", receiver);
        await app.StartAsync(TestTimeout.Token());
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };

        string content = new('x', 2 * 1024 * 1024);
        using var delivery = new HttpRequestMessage(HttpMethod.Post, address + "/hook")
        {
            Content = new StringContent($$"""{"TaskID":"t1","JobID":"j1","URL":"https://a.example/","Status":"success","StatusCode":200,"Content":"{{content}}"}""", System.Text.Encoding.UTF8, "application/json"),
        };
        delivery.Headers.Add(ScrapeDoWebhookReceiver.DefaultSecretHeader, secret);
        using HttpResponseMessage response = await http.SendAsync(delivery, TestTimeout.Token());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(receiver.Deliveries.TryRead(out TaskDetails? task));
        Assert.Equal(content.Length, task!.Content.Length);
        await app.StopAsync(TestTimeout.Token());
    }
}

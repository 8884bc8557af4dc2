using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using ScrapeDo.Lean;
using ScrapeDo.Lean.AspNetCore;
using ScrapeDo.Lean.WorkerSample;

var builder = WebApplication.CreateSlimBuilder(args);

// <in-a-service>
// The token comes from configuration like any secret, e.g. the environment variable ScrapeDo__Token.
builder.Services.AddScrapeDo(builder.Configuration.GetSection("ScrapeDo"));
builder.Services.AddHealthChecks().AddScrapeDo(configure: health => health.MinimumCredits = 1_000);

// Webhooks are a fast path: the runner still polls, so a lost delivery only costs latency.
var receiver = new ScrapeDoWebhookReceiver(ScrapeDoWebhookReceiver.NewSecret());
builder.Services.AddSingleton(receiver);
builder.Services.AddSingleton(new RunOptions { WebhookDeliveries = receiver.Deliveries });
builder.Services.AddSingleton(Channel.CreateUnbounded<string>());
builder.Services.AddHostedService<ScrapeWorker>();

var app = builder.Build();
app.MapScrapeDoWebhook("/scrapedo/webhook", receiver);
app.MapHealthChecks("/healthz");
// </in-a-service>

// Counts accepted deliveries, so the CI smoke can see that webhooks arrived.
app.Use(async (context, next) =>
{
    await next(context);
    if (context.Response.StatusCode == 200 && context.Request.Path == "/scrapedo/webhook")
    {
        WebhookStats.Count();
    }
});
await app.RunAsync();

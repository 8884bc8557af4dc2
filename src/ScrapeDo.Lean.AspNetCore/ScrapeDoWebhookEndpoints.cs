using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ScrapeDo.Lean.AspNetCore;

/// <summary>Maps a Scrape.do webhook endpoint onto an ASP.NET Core app.</summary>
/// <remarks>Refused deliveries are logged as event 1201 <c>WebhookRefused</c> (Warning), never with the secret.</remarks>
public static class ScrapeDoWebhookEndpoints
{
    /// <summary>
    /// Accepts <c>POST</c> deliveries at <paramref name="pattern"/>: the shared secret is checked first (a forged
    /// request is answered 401 without reading its body), the body is parsed with the receiver's size limit (400 when
    /// it is not a task), and accepted tasks go to <see cref="ScrapeDoWebhookReceiver.Deliveries"/> (200). The
    /// receiver's <see cref="ScrapeDoWebhookReceiver.MaxBodyBytes"/> replaces the server's own request body limit for
    /// this endpoint (Kestrel's default is 30 MB), so a large page is not cut off by the server.
    /// </summary>
    /// <param name="endpoints">The app or route group.</param>
    /// <param name="pattern">The route, e.g. <c>/scrapedo/webhook</c>.</param>
    /// <param name="receiver">The receiver holding the secret and the deliveries.</param>
    /// <returns>The endpoint, for further configuration.</returns>
    public static IEndpointConventionBuilder MapScrapeDoWebhook(this IEndpointRouteBuilder endpoints, string pattern, ScrapeDoWebhookReceiver receiver)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(receiver);
        // A RequestDelegate (no parameter binding) keeps the endpoint free of reflection, so it is AOT-safe.
        return endpoints.MapPost(pattern, async context =>
        {
            // The receiver's limit is the one that applies, as documented, not the server's default (Kestrel's 30 MB
            // would refuse a large page mid-read). The secret is still checked before any of the body is read.
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
            {
                bodySize.MaxRequestBodySize = receiver.MaxBodyBytes;
            }

            WebhookReceipt receipt = await receiver.ReceiveAsync(
                name => context.Request.Headers.TryGetValue(name, out var values) ? values.ToString() : null,
                context.Request.Body,
                context.RequestAborted).ConfigureAwait(false);
            context.Response.StatusCode = receipt.StatusCode;
            if (receipt.Verdict != WebhookVerdict.Accepted && context.RequestServices.GetService<ILoggerFactory>() is { } loggers)
            {
                // Only refusals are logged: an accepted delivery is the normal path.
                WebhookLog.Refused(loggers.CreateLogger(WebhookLog.Category), receipt.Verdict, receipt.Problem ?? "no detail", pattern);
            }
        });
    }
}

/// <summary>Log events of the webhook endpoint; the id continues ScrapeDo.Lean's numbering (1200–1299: webhooks).</summary>
internal static partial class WebhookLog
{
    public const string Category = "ScrapeDo.Lean.AspNetCore.Webhook";

    [LoggerMessage(EventId = 1201, EventName = "WebhookRefused", Level = LogLevel.Warning,
        Message = "Refused a Scrape.do webhook delivery at {Route}: {Verdict} ({Problem})")]
    public static partial void Refused(ILogger logger, WebhookVerdict verdict, string problem, string route);
}

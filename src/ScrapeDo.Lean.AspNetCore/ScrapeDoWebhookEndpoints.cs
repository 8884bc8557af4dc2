using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ScrapeDo.Lean.AspNetCore;

/// <summary>Maps a Scrape.do webhook endpoint onto an ASP.NET Core app.</summary>
/// <remarks>Refused deliveries are logged as event 1201 <c>WebhookRefused</c> (Warning) at most once a minute per
/// endpoint, the others as 1202 <c>WebhookRefusedAgain</c> (Debug), never with the secret.</remarks>
public static class ScrapeDoWebhookEndpoints
{
    /// <summary>
    /// Accepts <c>POST</c> deliveries at <paramref name="pattern"/>: the shared secret is checked first (a forged
    /// request is answered 401 without reading its body), the body is parsed with the receiver's size limit (400 when
    /// it is not a task), and accepted tasks go to <see cref="ScrapeDoWebhookReceiver.Deliveries"/> (200). The
    /// receiver's <see cref="ScrapeDoWebhookReceiver.MaxBodyBytes"/> replaces the server's own request body limit for
    /// this endpoint (Kestrel's default is 30 MB) on requests that carry the secret, so a large page is not cut off by
    /// the server; a forged request keeps the server's limit.
    /// </summary>
    /// <param name="endpoints">The app or route group.</param>
    /// <param name="pattern">The route, e.g. <c>/scrapedo/webhook</c>.</param>
    /// <param name="receiver">The receiver holding the secret and the deliveries.</param>
    /// <returns>The endpoint, for further configuration.</returns>
    public static IEndpointConventionBuilder MapScrapeDoWebhook(this IEndpointRouteBuilder endpoints, string pattern, ScrapeDoWebhookReceiver receiver)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(receiver);
        var refusals = new RefusalLog(endpoints.ServiceProvider.GetService<TimeProvider>() ?? TimeProvider.System);
        // A RequestDelegate (no parameter binding) keeps the endpoint free of reflection, so it is AOT-safe.
        return endpoints.MapPost(pattern, async context =>
        {
            // The receiver's limit is the one that applies, as documented, not the server's default (Kestrel's 30 MB
            // would refuse a large page mid-read), but only for a request that has the secret: the server drains an
            // unread body after the answer up to this limit, and a forged request must not make it read 256 MiB.
            if (receiver.VerifySecret(context.Request.Headers.TryGetValue(receiver.SecretHeader, out var presented) ? presented.ToString() : null)
                && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
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
                refusals.Refused(loggers.CreateLogger(WebhookLog.Category), receipt.Verdict, receipt.Problem ?? "no detail", pattern);
            }
        });
    }
}

/// <summary>Log events of the webhook endpoint; the id continues ScrapeDo.Lean's numbering (1200–1299: webhooks).</summary>
internal static partial class WebhookLog
{
    public const string Category = "ScrapeDo.Lean.AspNetCore.Webhook";

    [LoggerMessage(EventId = 1201, EventName = "WebhookRefused", Level = LogLevel.Warning,
        Message = "Refused a Scrape.do webhook delivery at {Route}: {Verdict} ({Problem}); {QuietRefusals} refused since the last such warning were logged at Debug (event 1202)")]
    public static partial void Refused(ILogger logger, WebhookVerdict verdict, string problem, string route, int quietRefusals);

    [LoggerMessage(EventId = 1202, EventName = "WebhookRefusedAgain", Level = LogLevel.Debug,
        Message = "Refused a Scrape.do webhook delivery at {Route}: {Verdict} ({Problem})")]
    public static partial void RefusedAgain(ILogger logger, WebhookVerdict verdict, string problem, string route);
}

/// <summary>
/// The refusals of one webhook endpoint in the log: the first of each minute as a Warning (1201, with how many went to
/// Debug since the one before), the others at Debug (1202). A forged request costs its sender nothing, so a Warning
/// each would let anyone who finds the URL flood the logs (a review sent 200 and got 200 Warnings).
/// </summary>
internal sealed class RefusalLog(TimeProvider time)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly Lock _gate = new();
    private long? _warnedAt;
    private int _quiet;

    public void Refused(ILogger logger, WebhookVerdict verdict, string problem, string route)
    {
        int quietBefore;
        lock (_gate)
        {
            long now = time.GetTimestamp();
            if (_warnedAt is { } warnedAt && time.GetElapsedTime(warnedAt, now) < Window)
            {
                _quiet++;
                quietBefore = -1;
            }
            else
            {
                (quietBefore, _quiet, _warnedAt) = (_quiet, 0, now);
            }
        }

        if (quietBefore < 0)
        {
            WebhookLog.RefusedAgain(logger, verdict, problem, route);
        }
        else
        {
            WebhookLog.Refused(logger, verdict, problem, route, quietBefore);
        }
    }
}

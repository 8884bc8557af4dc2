using System.Net;

namespace ScrapeDo.Lean.Credits;

/// <summary>
/// Recognises the API's "credits exhausted" answer. The reference (async-api.md §13.1) expects a 429 whose error text
/// speaks of credits; a 402 is taken the same way. Such an answer is final: retrying it only repeats the refusal.
/// </summary>
internal static class OutOfCredits
{
    public static bool Matches(ScrapeDoException? failure) => failure is ScrapeDoApiException api && Matches(api.StatusCode, api.ErrorText);

    public static bool Matches(HttpStatusCode status, string? errorText) =>
        status == HttpStatusCode.PaymentRequired
        || (status == HttpStatusCode.TooManyRequests && errorText is not null && errorText.Contains("credit", StringComparison.OrdinalIgnoreCase));
}

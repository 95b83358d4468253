using Microsoft.AspNetCore.Http.HttpResults;

namespace VirtApi.Problems;

/// <summary>
/// The one place endpoints build error answers, so every problem has the same shape: RFC 9457 fields,
/// a stable <c>code</c>, and (added by <see cref="ProblemDetailsExtensions"/>) the request's <c>correlationId</c>.
/// </summary>
public static class ApiProblem
{
    /// <summary>400 with each invalid field and its reasons.</summary>
    public static ValidationProblem Validation(IDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(
            errors,
            detail: "One or more fields are invalid; see errors.",
            title: "The request is invalid",
            type: ProblemCode.TypeUri(ProblemCode.ValidationFailed),
            extensions: new Dictionary<string, object?> { ["code"] = ProblemCode.ValidationFailed });

    /// <summary>404 for a <paramref name="resource"/> that does not exist.</summary>
    public static ProblemHttpResult NotFound(string resource, object id) =>
        Problem(StatusCodes.Status404NotFound, ProblemCode.NotFound, $"{resource} not found", $"No {resource.ToLowerInvariant()} has id '{id}'.");

    /// <summary>404 with a specific explanation.</summary>
    public static ProblemHttpResult NotFoundDetail(string detail) =>
        Problem(StatusCodes.Status404NotFound, ProblemCode.NotFound, "Not found", detail);

    /// <summary>409: the request conflicts with the resource's current state.</summary>
    public static ProblemHttpResult Conflict(string code, string detail, IDictionary<string, object?>? extensions = null) =>
        Problem(StatusCodes.Status409Conflict, code, "The request conflicts with the current state", detail, extensions);

    /// <summary>422: understood, but not something the service can do.</summary>
    public static ProblemHttpResult Unprocessable(string code, string detail, IDictionary<string, object?>? extensions = null) =>
        Problem(StatusCodes.Status422UnprocessableEntity, code, "The request cannot be carried out", detail, extensions);

    private static ProblemHttpResult Problem(int status, string code, string title, string detail, IDictionary<string, object?>? extensions = null)
    {
        var all = new Dictionary<string, object?>(extensions ?? new Dictionary<string, object?>()) { ["code"] = code };
        return TypedResults.Problem(detail, statusCode: status, title: title, type: ProblemCode.TypeUri(code), extensions: all);
    }
}

namespace VirtApi.Problems;

/// <summary>
/// The stable <c>code</c> of every problem the API answers with. Clients branch on these, so a code
/// is never renamed; new ones are added. The RFC 9457 <c>type</c> is <c>urn:virtapi:problem:{code}</c>.
/// </summary>
public static class ProblemCode
{
    /// <summary>400: one or more fields are missing or invalid; <c>errors</c> names each field and reason.</summary>
    public const string ValidationFailed = "validation-failed";

    /// <summary>400: the request could not be read at all (malformed JSON, wrong content type).</summary>
    public const string BadRequest = "bad-request";

    /// <summary>404: no resource with that id.</summary>
    public const string NotFound = "not-found";

    /// <summary>409: another host already has that name.</summary>
    public const string HostNameTaken = "host-name-taken";

    /// <summary>409: the host still has VMs placed on it.</summary>
    public const string HostInUse = "host-in-use";

    /// <summary>422: the request is well-formed but names something the service does not support.</summary>
    public const string Unsupported = "unsupported";

    /// <summary>500: a fault in the service; the body carries the correlation id the log line has.</summary>
    public const string InternalError = "internal-error";

    /// <summary>The RFC 9457 <c>type</c> URI for <paramref name="code"/>.</summary>
    public static string TypeUri(string code) => $"urn:virtapi:problem:{code}";

    /// <summary>The code used when a bare status code becomes a problem (no handler chose one).</summary>
    public static string ForStatus(int status) => status switch
    {
        StatusCodes.Status400BadRequest => BadRequest,
        StatusCodes.Status404NotFound => NotFound,
        StatusCodes.Status422UnprocessableEntity => Unsupported,
        >= 500 => InternalError,
        _ => $"http-{status}",
    };
}

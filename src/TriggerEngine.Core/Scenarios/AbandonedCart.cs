using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Events;

namespace TriggerEngine.Core.Scenarios;

/// <summary>
/// SPEC 3 <c>abandoned_cart</c>: a non-empty cart with no order and no change for <c>delay</c> fires once
/// (a second time <c>followUp</c> after the first, when set). Exits: an order (of that cart when the
/// order names one), the cart emptied.
/// </summary>
public static class AbandonedCart
{
    private const int EvidenceLimit = 20;

    public static void OnEvent(CustomerState s, CustomerEvent e)
    {
        switch (e)
        {
            case ProductAdded a:
            {
                if (!s.Carts.TryGetValue(a.CartId, out var cart)) s.Carts[a.CartId] = cart = new CartState(a.CartId);
                var old = cart.Lines.GetValueOrDefault(a.ProductId);
                cart.Lines[a.ProductId] = new CartLine(a.ProductId, (old?.Quantity ?? 0) + Math.Max(1, a.Quantity),
                    a.Price ?? old?.Price);
                Touch(cart, a);
                break;
            }
            case ProductRemoved r when s.Carts.TryGetValue(r.CartId, out var cart):
            {
                if (cart.Lines.TryGetValue(r.ProductId, out var line))
                {
                    var left = r.Quantity is { } q ? line.Quantity - q : 0;
                    if (left > 0) cart.Lines[r.ProductId] = line with { Quantity = left };
                    else cart.Lines.Remove(r.ProductId);
                }
                Touch(cart, r);
                EndIfEmptied(s, cart);
                break;
            }
            case CartViewed v:
            {
                // A listing of the cart: a change only where it differs from what the cart held.
                s.Carts.TryGetValue(v.CartId, out var cart);
                var listed = v.Items.GroupBy(i => i.ProductId)
                    .ToDictionary(g => g.Key, g => new CartLine(g.Key, g.Sum(i => Math.Max(1, i.Quantity)), g.Last().Price));
                var same = cart is not null && cart.Lines.Count == listed.Count
                    && listed.All(kv => cart.Lines.TryGetValue(kv.Key, out var l) && l.Quantity == kv.Value.Quantity);
                if (same || (cart is null && listed.Count == 0)) break;
                if (cart is null) s.Carts[v.CartId] = cart = new CartState(v.CartId);
                cart.Lines.Clear();
                foreach (var (pid, line) in listed) cart.Lines[pid] = line;
                Touch(cart, v);
                EndIfEmptied(s, cart);
                break;
            }
            case OrderCompleted o:
                if (o.CartId is { } id) s.Carts.Remove(id);
                else s.Carts.Clear();
                break;
        }
    }

    /// <summary>Emptied before any reminder: the instance ends; a refill starts a new one.</summary>
    private static void EndIfEmptied(CustomerState s, CartState cart)
    {
        if (cart.Lines.Count == 0 && cart.Status == CartStatus.Open) s.Carts.Remove(cart.CartId);
    }

    private static void Touch(CartState cart, CustomerEvent e)
    {
        if (e.Timestamp > cart.LastChangeAt) cart.LastChangeAt = e.Timestamp;
        cart.Evidence.Add(e.MessageId);
        if (cart.Evidence.Count > EvidenceLimit) cart.Evidence.RemoveAt(0);
    }

    public static DateTimeOffset? DueAt(CartState cart, AbandonedCartRules r) => cart switch
    {
        { Lines.Count: 0 } => null,
        { Status: CartStatus.Open } => cart.LastChangeAt + r.Delay,
        { Status: CartStatus.Reminded, RemindedAt: { } at } when r.FollowUp is { } f => at + f,
        _ => null,
    };

    public static DateTimeOffset? NextDue(CustomerState s, AbandonedCartRules r)
    {
        DateTimeOffset? next = null;
        foreach (var c in s.Carts.Values) next = Due.Earlier(next, DueAt(c, r));
        return next;
    }

    public static void OnTime(CustomerState s, DateTimeOffset at, AbandonedCartRules r, List<Candidate> fired)
    {
        if (NextDue(s, r) is not { } first || first > at) return;
        foreach (var cart in s.Carts.Values.OrderBy(c => c.CartId, StringComparer.Ordinal))
        {
            if (DueAt(cart, r) is not { } due || due > at) continue;
            var reminder = cart.Status == CartStatus.Open ? 1 : 2;
            var idle = reminder == 1 ? r.Delay : due - cart.LastChangeAt;
            var items = cart.ItemCount;
            var reason = reminder == 1
                ? $"You left {items} item{(items == 1 ? "" : "s")} in your cart {Durations.Ago(idle)} ago"
                : $"Reminder: {items} item{(items == 1 ? "" : "s")} still in your cart since {Durations.Ago(idle)} ago";
            fired.Add(new Candidate(ScenarioName.AbandonedCart, $"{cart.CartId}#{reminder}", due, reason,
                cart.Evidence.ToArray(), new Dictionary<string, object?>
                {
                    ["cart_id"] = cart.CartId,
                    ["reminder"] = reminder,
                    ["items"] = cart.Lines.Values.OrderBy(l => l.ProductId, StringComparer.Ordinal)
                        .Select(l => new Dictionary<string, object?>
                        {
                            ["product_id"] = l.ProductId, ["quantity"] = l.Quantity, ["price"] = l.Price,
                        }).ToArray(),
                }));
            if (cart.Status == CartStatus.Open) { cart.Status = CartStatus.Reminded; cart.RemindedAt = due; }
            else cart.Status = CartStatus.FollowedUp;
        }
    }
}

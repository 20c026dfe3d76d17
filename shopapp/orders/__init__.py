"""Orders: carts, checkout (one order per shop, all or nothing), fulfilment and its history."""
